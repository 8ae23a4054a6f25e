"""The testing surface: test blocks and their expectations, and the FastAGI peer.

What `ccf test` (and `--via asterisk`) runs; production code never imports it.
"""
