"""The two hidden-test checks every `tests/test_checks_chNN.py` runs on its chapter's
exercises (For instructors, "Grading"): each reference solution passes the hidden tests
for two instructor seeds, and each wrong-but-plausible answer fails them (and the public
self-check too, with the hint given, where it is cheap to catch)."""

from __future__ import annotations

import pytest

from fenwicks_lite import exercises


def serve(fn):
    """`fn` behind the grader's RPC, its kernel side (`grading._serve_on`) in a thread
    of this process instead of a kernel: the proxy the checks call
    (`grading._Learner`), that thread, and the kernel side's first message (hello)."""
    import socket
    import threading

    from fenwicks_lite import grading

    worker, kernel = socket.socketpair()
    t = threading.Thread(target=grading._serve_on, args=(kernel, fn), daemon=True)
    t.start()
    conn = grading._WorkerConn(worker)
    hello = conn.recv()
    return grading._Learner(conn), t, hello


def served(fn):
    """`fn` as the grader's checks see it: called over the grader's RPC (`serve`)."""
    return serve(fn)[0]


def tests(references: list, wrong: list) -> tuple:
    """The two test functions for a chapter's `references` ((key, fn)) and `wrong`
    answers ((key, fn, hint or None)); assign them to module-level test names. Each
    runs called directly and through the grader's RPC (`served`): the grader runs the
    checks in its own process and the answer in the kernel."""

    @pytest.mark.parametrize("rpc", [False, True], ids=["direct", "rpc"])
    @pytest.mark.parametrize("seed", [0, 1])
    @pytest.mark.parametrize("key, fn", references)
    def test_references_pass_the_hidden_tests(key, fn, seed, rpc):
        r = exercises.run_hidden(key, served(fn) if rpc else fn, seed)
        assert r.passed, r.message

    @pytest.mark.parametrize("rpc", [False, True], ids=["direct", "rpc"])
    @pytest.mark.parametrize("key, wrong, hint", wrong)
    def test_wrong_answers_fail_the_hidden_tests(key, wrong, hint, rpc):
        """`hint`: the public self-check catches it too, with this hint (None: only
        the hidden one)."""
        public = exercises.run_check(key, served(wrong) if rpc else wrong)
        if hint:
            assert not public.passed and hint in public.message, public.message
        r = exercises.run_hidden(key, served(wrong) if rpc else wrong, 0)
        assert not r.passed and r.status != "checker-error", r.message

    return test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests
