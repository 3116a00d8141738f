"""The curator side: the catalog of real architectures with citations, and ``verify`` over
submitted figures."""
