"""rnnviz core: data, models, tracing, training and figure builders.

Nothing in this package imports streamlit except the ``rnnviz.ui*`` modules,
so every number and figure can be used from a notebook or a test.
"""
