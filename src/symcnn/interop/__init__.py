"""Interoperability: PyTorch in and out (optional extra ``symcnn[torch]``) and summary exports."""
