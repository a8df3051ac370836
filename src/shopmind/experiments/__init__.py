"""Experimentation: A/B tests and interleaving (definitions, assignment, exposures, analysis) and their statistics.

Kept light on purpose: import the modules you need (`shopmind.experiments.stats`, `.interleave`, `.ope`, `.service`…);
nothing here pulls in scipy on `import shopmind.experiments`.
"""
