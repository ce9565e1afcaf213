"""The concept quiz: digests, validation, grading a plain answer dict, and the widget."""

from __future__ import annotations

import pytest

from graders import GradingError
from graders.quiz import Question, Quiz, digest

OPTIONS = [
    "It makes pipes faster",
    "A failing command inside a pipeline fails the whole pipeline",
    "It stops the script on unset variables",
]
RIGHT = OPTIONS[1]


def make_quiz() -> Quiz:
    return Quiz(
        "02-bash",
        [
            Question(
                "pipefail",
                "Why does `set -o pipefail` matter in a CI script?",
                OPTIONS,
                answer=digest("02-bash", "pipefail", RIGHT),
                explanation="Without it a pipeline's status is its last command's.",
            ),
            Question(
                "exit_status",
                "What does a scheduler read to know a job failed?",
                ["Its exit status", "Its stdout"],
                answer=digest("02-bash", "exit_status", "Its exit status"),
            ),
        ],
    )


def failure(answers) -> str:
    with pytest.raises(GradingError) as caught:
        make_quiz().check(answers)
    return str(caught.value)


def test_digest_is_stable_short_and_ignores_case_and_spacing_only():
    value = digest("02-bash", "pipefail", RIGHT)
    assert len(value) == 16 and int(value, 16) >= 0
    assert value == digest(
        "02-bash", "pipefail", "  a failing COMMAND inside a pipeline\nfails the whole pipeline "
    )
    assert value != digest("02-bash", "pipefail", OPTIONS[0])
    assert value != digest("02-bash", "other_question", RIGHT), "question id is mixed in"
    assert value != digest("03-docker", "pipefail", RIGHT), "module id is mixed in"


def test_right_answers_pass_with_one_check_per_question():
    report = make_quiz().grade({"pipefail": RIGHT, "exit_status": "its exit status"})
    assert report.ok and report.checks_run == 2
    assert report.title == "Concept quiz · 02-bash"


def test_check_on_its_own_shows_the_result_and_records_it_for_the_progress_table(capsys):
    from graders.report import OUTCOMES

    assert make_quiz().check({"pipefail": RIGHT, "exit_status": "Its exit status"}) is None
    assert "✓ Concept quiz · 02-bash: all 2 checks passed" in capsys.readouterr().out
    assert OUTCOMES["Concept quiz · 02-bash"] is True


def test_check_into_a_report_adds_findings_without_finishing():
    from graders import Report

    report = Report("Exercise 7 · concept quiz")
    with report.attempt("quiz_answers"):
        make_quiz().check({"pipefail": OPTIONS[2]}, report)
    assert [f.location for f in report.findings] == [
        "quiz_answers['pipefail']",
        "quiz_answers['exit_status']",
    ]
    with pytest.raises(GradingError, match="Exercise 7 · concept quiz: 2 problems found"):
        report.finish()


def test_check_into_a_report_turns_a_missing_answer_variable_into_a_finding():
    from graders import Report

    report = Report("Exercise 7 · concept quiz")
    with report.attempt("quiz_answers"):
        make_quiz().check(undefined_quiz_answers, report)  # noqa: F821
    assert "NameError" in report.findings[0].message
    assert "answer cell above" in report.findings[0].hint


def test_a_custom_title_names_the_report_in_the_progress_table():
    quiz = Quiz("02-bash", make_quiz().questions, title="Exercise 7 · concept quiz")
    assert quiz.grade({}).title == "Exercise 7 · concept quiz"
    with pytest.raises(GradingError, match=r"^Exercise 8 · quiz: 2 problems"):
        quiz.check({}, title="Exercise 8 · quiz")


def test_wrong_and_missing_answers_are_all_listed_without_revealing_the_right_option():
    text = failure({"pipefail": OPTIONS[0]})
    assert "2 problems found" in text
    assert "quiz_answers['pipefail']: not the right answer" in text
    assert "quiz_answers['exit_status']: no answer yet" in text
    assert RIGHT not in text and "Its exit status" not in text


def test_an_answer_that_is_not_an_option_lists_the_options_to_copy_from():
    text = failure({"pipefail": "faster pipes", "exit_status": "Its exit status"})
    assert "this is not one of the options" in text
    assert "found:    'faster pipes'" in text
    # the options are public (they are on screen); which one is right is not said
    assert all(option in text for option in OPTIONS)
    assert "not the right answer" not in text


def test_unknown_ids_and_non_string_answers_are_findings():
    text = failure({"pipefal": RIGHT, "pipefail": 2, "exit_status": "Its exit status"})
    assert "quiz_answers['pipefal']: there is no question with this id" in text
    assert "expected: one of ['exit_status', 'pipefail']" in text
    assert "the answer should be the option's text (a string)" in text


@pytest.mark.parametrize("placeholder", [None, ...])
def test_the_placeholder_scores_zero_with_the_usual_hint(placeholder):
    text = failure(placeholder)
    assert "not written yet: the placeholder is still there" in text
    assert "NotImplementedError" in text


def test_an_answer_that_is_not_a_dict_says_what_shape_is_expected():
    text = failure(["pipefail", RIGHT])
    assert "should be a dict" in text
    assert "expected: {'pipefail': '<option text>', 'exit_status': '<option text>'}" in text
    assert "found:    list:" in text


def test_check_without_an_argument_outside_a_notebook_means_not_written_yet():
    with pytest.raises(GradingError, match="not written yet"):
        make_quiz().check()


def test_an_answer_digest_that_matches_no_option_is_an_authoring_error():
    with pytest.raises(ValueError, match=r"matches 0 options.*graders\.quiz\.digest"):
        Quiz("02-bash", [Question("pipefail", "?", OPTIONS, answer="0" * 16)])
    with pytest.raises(ValueError, match="matches 0 options"):  # digest of another module
        Quiz("03-docker", make_quiz().questions[:1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "Pipe Fail"}, "snake_case"),
        ({"options": ["only one"]}, "at least two options"),
        ({"options": ["Same", "same "]}, "read the same"),
    ],
)
def test_malformed_questions_are_rejected(kwargs, message):
    fields = {"id": "pipefail", "prompt": "?", "options": OPTIONS, "answer": "x"} | kwargs
    with pytest.raises(ValueError, match=message):
        Question(**fields)


def test_duplicate_question_ids_are_rejected():
    question = make_quiz().questions[0]
    with pytest.raises(ValueError, match="duplicate question ids"):
        Quiz("02-bash", [question, question])


def test_text_form_lists_every_question_and_option_but_not_the_answer():
    text = make_quiz().to_text()
    assert "1. [pipefail] Why does `set -o pipefail` matter" in text
    assert all(f"   - {option}" in text for option in OPTIONS)
    assert "quiz_answers = {" in text
    assert "Without it" not in text, "explanations appear only after a right answer"


def test_show_outside_a_notebook_prints_the_text_form(capsys):
    make_quiz().show()
    assert "[exit_status] What does a scheduler read" in capsys.readouterr().out


def test_the_widget_gives_immediate_feedback_and_a_copyable_answer_dict():
    pytest.importorskip("ipywidgets")
    box = make_quiz().widget()
    _title, first, second, summary = box.children
    prompt, buttons, feedback = first.children
    assert "pipefail" in prompt.value and buttons.value is None and feedback.value == ""
    assert "0 of 2 right" in summary.value

    buttons.value = OPTIONS[0]
    assert "Not quite" in feedback.value and "Without it" not in feedback.value
    buttons.value = RIGHT
    assert "✓ Right." in feedback.value and "Without it" in feedback.value
    second.children[1].value = "Its stdout"
    assert "1 of 2 right" in summary.value
    assert "quiz_answers = {&#x27;pipefail&#x27;: &#x27;A failing" in summary.value


def test_options_are_shown_in_a_fixed_shuffle_not_the_authored_order():
    quiz = make_quiz()
    question = quiz.questions[0]
    shown = quiz.shown_options(question)
    assert sorted(shown) == sorted(OPTIONS) and shown == quiz.shown_options(question)
    text = quiz.to_text()
    assert [text.index(f"   - {option}") for option in shown] == sorted(
        text.index(f"   - {option}") for option in shown
    )
    # across many questions, the right option does not sit in one position
    positions = set()
    for n in range(12):
        options = [f"option {n}-{i}" for i in range(3)]
        q = Question(f"q{n}", "?", options, answer=digest("m", f"q{n}", options[1]))
        positions.add(Quiz("m", [q]).shown_options(q).index(options[1]))
    assert len(positions) > 1
