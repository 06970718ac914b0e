"""Built-in actions: a registry of small functions that playbook ``action`` steps call by name.

Every module in this package is imported by ``registry.load_all()``; modules register actions with
the ``@action`` decorator and must stay light at import time (heavy libraries inside the function).
"""
