"""The standard library of .ccf flows, imported with `use stdlib.NAME`."""
