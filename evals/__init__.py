"""The evaluation harness: ``python -m evals run|gate|jsquad|jsts`` (see evals/README.md)."""
