"""A flow as a picture: the graph model (model.py), built from a checked program
(build.py), with the call store's traffic on it (traffic.py), drawn as DOT (dot.py),
Mermaid (mermaid.py) or one HTML page around an SVG (page.py). Never runs Graphviz."""
