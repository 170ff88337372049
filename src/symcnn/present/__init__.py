"""The one place that turns expressions and plain data into what people read.

Printers (plain text and LaTeX, one class per target), :func:`fmt` for values in messages, :func:`number` for
exact numbers, the summary tables of an analysis in six formats, and documents (a derivation as HTML/LaTeX).
Nothing here imports the engine: objects are taken by duck typing, symcnn's classes recognised by name.
"""

from ._documents import derivation_html as derivation_html
from ._documents import derivation_latex as derivation_latex
from ._documents import show as show
from ._notation import LatexPrinter as LatexPrinter
from ._notation import TextPrinter as TextPrinter
from ._notation import fmt as fmt
from ._notation import latex as latex
from ._notation import number as number
from ._notation import pretty as pretty
from ._tables import FORMATS as FORMATS
from ._tables import SummaryTable as SummaryTable
from ._tables import latex_display as latex_display
from ._tables import render as render
from ._tables import rf_cell as rf_cell
from ._tables import rf_rule as rf_rule
from ._tables import summary_table as summary_table
from ._tables import to_csv as to_csv
from ._tables import to_html as to_html
from ._tables import to_json as to_json
from ._tables import to_latex as to_latex
from ._tables import to_markdown as to_markdown
from ._tables import to_text as to_text

__all__ = [
    "TextPrinter", "LatexPrinter", "pretty", "latex", "fmt", "number",
    "SummaryTable", "summary_table", "rf_cell", "rf_rule", "render", "FORMATS",
    "to_markdown", "to_latex", "to_csv", "to_json", "to_html", "to_text", "latex_display",
    "show", "derivation_html", "derivation_latex",
]
