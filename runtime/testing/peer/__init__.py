"""A stand-in for Asterisk's FastAGI side with a simulated caller on the line.

Production code never imports it.
"""
