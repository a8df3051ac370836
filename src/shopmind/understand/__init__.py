"""Product understanding: attribute values extracted from titles and descriptions (and, beside it, review aspects).

Models are small trained files shipped in `understand/models/`; nothing here is imported by `import shopmind.engine`
until a product is enriched (python-crfsuite loads lazily).
"""
