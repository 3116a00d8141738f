"""``python -m estimator`` works like ``paramcount``: :func:`run` is the entry point of both
(the script is ``estimator.__main__:run``)."""
import gc


def run() -> None:
    """:func:`estimator.cli.main` in a process of its own, with the cycle collector tuned for
    one. Only for that: code that calls ``main`` in-process (the tests) keeps its collector as
    it was.

    * A young generation of 100,000 objects instead of Python's 700, set before the command
      line's imports: start-up (typer, pydantic, the layer rooms) creates objects by the
      hundred thousand that live until the process ends, and with the default every 700 of
      them set off a collection walking them (about a tenth of the CPU of ``paramcount
      SPEC.yaml``; ``check``'s peak memory moves by 0.5 %).
    * At exit the interpreter runs a full collection over every object alive, nearly all of
      them built by start-up: frozen first (``gc.freeze``), they are left out of it (about a
      sixth of the CPU). The process still exits as usual (atexit handlers, flushed streams).
    """
    gc.set_threshold(100_000, *gc.get_threshold()[1:])
    from .cli import main

    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
