// Render \( \) and \[ \] with the vendored KaTeX (docs/assets/katex, katex 0.16.22, MIT) on every page.
// throwOnError: false turns bad TeX into a visible, countable .katex-error instead of an exception.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: false,
  });
});
