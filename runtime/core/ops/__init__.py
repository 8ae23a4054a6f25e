"""The ops a flow's steps are made of, one table (OPS) per module.

Must not import the interpreter: the interpreter imports it.
"""
