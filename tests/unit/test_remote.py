"""The trusted checker's link to a learner's kernel: data crosses, code never does."""

from __future__ import annotations

import socket
import sys
import threading
import time

import pytest

from course.checker import CheckerPeer
from graders.remote.codec import CodecError, decode, encode
from graders.remote.peer import RemoteError, send_message


def no_handles(value):
    raise AssertionError(f"unexpected handle for {value!r}")


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, "text", [1, [2]], (1, "a"), {"a": (1, 2), 3: None}, {1, 2},
     frozenset({"x"}), b"\x00\xff", float("inf")],
)  # fmt: skip
def test_plain_values_cross_unchanged(value):
    assert decode(encode(value, no_handles), no_handles) == value


def test_frames_and_arrays_cross_as_data():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"t": pd.to_datetime(["2026-01-01"], utc=True), "x": [1.5]})
    back = decode(encode(frame, no_handles), no_handles)
    pd.testing.assert_frame_equal(back, frame)
    array = np.arange(6).reshape(2, 3)
    assert (decode(encode(array, no_handles), no_handles) == array).all()


@pytest.mark.parametrize(
    "data",
    [
        {"$data": "os.system", "fields": {}},  # only declared result classes are built
        {"$np": ["|O", 1]},  # object arrays would unpickle
        {"$float": "__import__('os')"},
        {"no-tag": 1},
        {"$dict": [[[1], 2], [{"$dict": []}, 3]]},  # an unhashable key
    ],
)
def test_decoding_refuses_anything_but_data(data):
    with pytest.raises((CodecError, TypeError)):
        decode(data, no_handles)


def test_object_arrays_are_never_unpickled():
    np = pytest.importorskip("numpy")
    import base64
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        decode({"$ndarray": base64.b64encode(buffer.getvalue()).decode()}, no_handles)


def test_a_learner_function_is_called_with_the_checks_inputs(link):
    def double(values, factor=2):
        print("doubling", len(values))
        return [v * factor for v in values]

    remote = link({"double": double, "answers": {"q1": "a"}}).names("double", "answers", "missing")
    assert remote["answers"] == {"q1": "a"}  # data arrives as a plain value
    assert "missing" not in remote
    assert remote["double"]([1, 2], factor=3) == [3, 6]


def test_learner_output_is_replayed_on_the_trusted_side(link, monkeypatch):
    """Printed in the learner's kernel, written to the checker's streams (where a check's
    ``report.attempt`` captures it). Both ends share one process here, so the replay is
    recorded rather than read back from sys.stdout."""
    replayed = []
    monkeypatch.setattr(
        CheckerPeer,
        "replay_streams",
        lambda self, reply: replayed.append((reply.get("out"), reply.get("err"))),
    )

    def noisy():
        print("to stdout")
        print("to stderr", file=sys.stderr)
        return 1

    assert link({"noisy": noisy}).names("noisy")["noisy"]() == 1
    assert ("to stdout\n", "to stderr\n") in replayed


def test_learner_exceptions_arrive_as_type_and_message(link):
    class ConfigError(ValueError):
        pass

    def load(path):
        if path == "bad":
            raise ConfigError("line 3: bad value")
        raise NotImplementedError

    names = link({"load": load, "ConfigError": ConfigError}).names("load", "ConfigError")
    with pytest.raises(names["ConfigError"]) as caught:
        names["load"]("bad")
    assert str(caught.value) == "line 3: bad value"
    assert isinstance(caught.value, ValueError)  # `except ValueError` catches it too
    with pytest.raises(NotImplementedError):
        names["load"]("good")


def test_learner_objects_are_used_through_proxies(link):
    class Model:
        threshold = 0.5

        def predict(self, rows):
            return [row > self.threshold for row in rows]

    model = link({"models": {"churn": Model()}}).names("models")["models"]["churn"]
    assert model.threshold == 0.5
    assert model.predict([0.2, 0.9]) == [False, True]
    with pytest.raises(AttributeError):
        model.__globals__  # noqa: B018 - dunders never go remote


def test_learner_threads_may_call_back_into_the_check_concurrently(link):
    from concurrent.futures import ThreadPoolExecutor

    def score_all(records, model):
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(model, records))

    class CountingModel:
        def __init__(self):
            self.lock, self.running, self.most = threading.Lock(), 0, 0

        def __call__(self, record):
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            time.sleep(0.05)
            with self.lock:
                self.running -= 1
            return record * 10

    model = CountingModel()
    score_all_remote = link({"score_all": score_all}).names("score_all")["score_all"]
    assert score_all_remote(list(range(8)), model) == [r * 10 for r in range(8)]
    assert model.most > 1


def test_the_learner_cannot_reach_into_trusted_objects(link):
    """A learner function given a trusted callable can call it, and read public data
    attributes, but not walk to its globals, class or modules."""
    secret = {"hidden": "the hidden tests"}

    class Fake:
        public = 3
        helper = staticmethod(lambda: secret)

        def __call__(self, x):
            return x

    def probe(fake):
        found = []
        for name in ("__globals__", "_private", "helper"):
            try:
                found.append((name, getattr(fake, name)))
            except Exception as exc:
                found.append((name, type(exc).__name__))
        return [(n, v if isinstance(v, (str, int)) else "object") for n, v in found] + [
            ("public", fake.public), ("call", fake(7))]  # fmt: skip

    result = link({"probe": probe}).names("probe")["probe"](Fake())
    assert dict(result)["public"] == 3 and dict(result)["call"] == 7
    for name in ("__globals__", "_private"):
        assert dict(result)[name] == "AttributeError"
    assert dict(result)["helper"] == "AttributeError"  # not data: refused


def test_forged_messages_are_findings_not_code():
    """A hostile kernel that answers with its own messages gets decoding errors."""
    trusted_end, learner_end = socket.socketpair()
    checker = CheckerPeer(trusted_end, call_timeout=5).start()
    results = {}

    def ask():
        try:
            results["value"] = checker.request("names", names=["x"])
        except Exception as exc:
            results["error"] = exc

    asker = threading.Thread(target=ask)
    asker.start()
    time.sleep(0.2)
    send_message(learner_end, {"re": 1, "value": {"$data": "subprocess.Popen", "fields": {}}})
    asker.join(5)
    assert isinstance(results.get("error"), (CodecError, RemoteError))
    checker.close()
    learner_end.close()


def test_arguments_the_learner_changes_change_the_checks_own_objects(link):
    """A check that gives a learner's function a list or a frame can find out that the
    function modified it, as it would in one kernel."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")

    def careless(rows, frame, options=None):
        rows.append(4)
        frame["extra"] = 1
        return len(rows)

    def careful(rows, frame, options=None):
        return len(rows)

    names = link({"careless": careless, "careful": careful}).names("careless", "careful")
    rows, frame = [1, 2, 3], pd.DataFrame({"x": [1.0, 2.0]})
    assert names["careful"](rows, frame) == 3
    assert rows == [1, 2, 3] and list(frame.columns) == ["x"]
    assert names["careless"](rows, frame) == 4
    assert rows == [1, 2, 3, 4]
    assert list(frame.columns) == ["x", "extra"]


def test_learner_side_helpers_run_beside_the_learners_objects(link):
    from graders.calls import first_result_across_calls

    template = {"labels": {}}

    def shared(name):
        made = dict(template)  # a shallow copy: the nested dict is shared
        made["labels"]["app"] = name
        return made

    remote = link({"shared": shared}).names("shared")["shared"]
    before, after = first_result_across_calls(remote, [(("a",), {}), (("b",), {})])
    assert before == {"labels": {"app": "a"}}
    assert after == {"labels": {"app": "b"}}  # seen only beside the learner's objects
    # the same helper in the learner's own kernel (no proxy among its arguments)
    assert first_result_across_calls(shared, [(("c",), {}), (("d",), {})])[1]["labels"] == {
        "app": "d"
    }


def test_a_learner_side_helper_finds_proxies_inside_lists(link):
    """A check may pass a learner's definitions as a list: the helper still runs on the
    learner's side."""
    from graders.remote import _first_proxy
    from graders.remote.peer import Remote

    remote = link({"made": dict}).names("made")["made"]
    assert _first_proxy([1, [2, {"k": (remote,)}]], Remote) is remote
    assert _first_proxy([1, [2, {"k": (3,)}]], Remote) is None


def test_only_graders_functions_run_on_the_learners_side():
    from graders.remote import learner_function, learner_side

    with pytest.raises(ValueError):
        learner_function("os.system")
    with pytest.raises(ValueError):
        learner_function("graders.report.Report")  # exists, but is not declared learner-side

    def helper():
        return 1

    helper.__module__ = "tests.unit"
    with pytest.raises(ValueError):
        learner_side(helper)


def test_a_learner_object_cannot_declare_itself_equal_to_the_expected_answer(link):
    """An object whose ``__eq__`` says yes to everything (and ``__contains__`` too) would pass
    every ``check_equal`` of a check, hidden ones included, without computing anything: so
    the checker decides equality and membership itself, from data, never by asking."""
    from graders import Report
    from tests.classroom import ANYTHING

    namespace: dict = {}
    exec(ANYTHING, namespace)  # the class the answers-anything student binds its answers to
    names = link({"answer": lambda *args: namespace["Anything"]()}).names("answer")
    found = names["answer"]()
    report = Report("the hidden test")
    report.check_equal(found, [3, 1, 2], "sort([2, 3, 1])", "should be sorted")
    report.check_equal([3, 1, 2], found, "sort([2, 3, 1])", "should be sorted")
    assert len(report.findings) == 2
    assert found != {"a": 1}
    assert found != 42
    assert "hidden" not in found  # tested against its items, each only itself
    assert found == found  # the same object is still itself


def test_a_finding_names_the_type_of_a_learner_object_not_the_proxy(link):
    """``found:`` for a learner's object said ``Remote``; it now says its class, as the
    learner named it, while decisions still see a proxy (isinstance and equality)."""
    from graders import type_name

    class ChurnModel:
        pass

    remote = link({"model": ChurnModel(), "answers": {"q1": "a"}}).names("model", "answers")
    assert type_name(remote["model"]) == "ChurnModel"
    assert not isinstance(remote["model"], ChurnModel)  # still a proxy
    assert type_name(remote["answers"]) == "dict"  # data arrives as itself
