"""Playbooks: the model, the interpreter (one function executes a step), the journal, rendering.

``play`` is a short pipeline (``interpreter.play``): load -> validate -> resolve policy -> plan ->
guard -> execute -> render. Step outcomes are values (``result.Status``), never exceptions.
"""
