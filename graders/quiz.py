"""A short concept quiz per module: ipywidgets for immediate feedback, a plain value for grading.

A module defines its quiz in a read-only cell::

    from graders.quiz import Question, Quiz
    QUIZ = Quiz("02-bash", [
        Question("pipefail", "Why does `set -o pipefail` matter in a CI script?",
                 ["It makes pipes faster",
                  "A failing command inside a pipeline fails the whole pipeline",
                  "It stops the script on unset variables"],
                 answer="…",          # digest("02-bash", "pipefail", <the right option>)
                 explanation="Without it a pipeline's status is its last command's …"),
    ])
    QUIZ.show()

:meth:`Quiz.show` renders radio buttons that say at once whether a choice is right (and
why, once it is). Widget state does not survive grading, so the graded answer is a plain
dict in an autograded answer cell, ``quiz_answers = {"pipefail": "<option text>", …}``,
and the test cell calls ``QUIZ.check(quiz_answers)``, which fails with every wrong or
missing question id (never the right option) like any other :class:`~graders.report.Report`.

The right options are stored only as digests (:func:`digest`), so the notebook does not
show the answers in plain text. That keeps an honest learner from reading them by
accident; it is not a secret against someone who hashes every option, and need not be:
the quiz is worth little, the exercises carry the points.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graders.report import Report, short_repr, type_name

DIGEST_LENGTH = 16  # hex characters of sha256: plenty to tell 2-6 options apart
_UNSET: Any = object()


def _notebook_variable(name: str) -> Any:
    """A variable of the running notebook (IPython's user namespace), or None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else shell.user_ns.get(name)


def normalise(text: str) -> str:
    """What an answer is compared by: case and runs of whitespace do not matter."""
    return " ".join(str(text).split()).casefold()


def digest(module: str, question_id: str, option: str) -> str:
    """The stored form of a right option: ``digest("02-bash", "pipefail", "<option>")``.

    The module and question ids are mixed in so the same option text in two questions (or
    two modules) gets a different digest.
    """
    payload = f"{module}\x00{question_id}\x00{normalise(option)}".encode()
    return hashlib.sha256(payload).hexdigest()[:DIGEST_LENGTH]


@dataclass(frozen=True)
class Question:
    """One multiple-choice question; ``answer`` is the :func:`digest` of the right option."""

    id: str
    prompt: str
    options: Sequence[str]
    answer: str
    explanation: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if not self.id or not self.id.replace("_", "").isalnum() or self.id != self.id.lower():
            raise ValueError(f"question id {self.id!r}: use short snake_case, e.g. 'pipefail'")
        if len(self.options) < 2:
            raise ValueError(f"question {self.id!r}: give at least two options")
        if len({normalise(option) for option in self.options}) != len(self.options):
            raise ValueError(f"question {self.id!r}: two options read the same")


class Quiz:
    """The concept quiz of one module: shown with :meth:`show`, graded with :meth:`check`."""

    def __init__(
        self, module: str, questions: Sequence[Question], *, title: str | None = None
    ) -> None:
        self.module = module
        self.questions = tuple(questions)
        self.title = title or f"Concept quiz · {module}"
        if not self.questions:
            raise ValueError(f"quiz {module!r}: no questions")
        ids = [question.id for question in self.questions]
        duplicates = sorted({qid for qid in ids if ids.count(qid) > 1})
        if duplicates:
            raise ValueError(f"quiz {module!r}: duplicate question ids {duplicates}")
        for question in self.questions:
            right = [option for option in question.options if self._is_right(question, option)]
            if len(right) != 1:
                raise ValueError(
                    f"quiz {module!r}, question {question.id!r}: the answer digest matches "
                    f"{len(right)} options, it must match exactly one; compute it with "
                    f"graders.quiz.digest({module!r}, {question.id!r}, <the right option>)"
                )

    def shown_options(self, question: Question) -> list[str]:
        """The options in the order learners see them: a fixed shuffle of the authored order,
        so the right option's position carries no pattern across questions (authors tend to
        put it in the same place) and is the same in every run and on every machine."""

        def position(option: str) -> str:
            key = f"order\x00{self.module}\x00{question.id}\x00{normalise(option)}"
            return hashlib.sha256(key.encode()).hexdigest()

        return sorted(question.options, key=position)

    # -- answers ---------------------------------------------------------------------------

    def _is_right(self, question: Question, choice: str) -> bool:
        return digest(self.module, question.id, choice) == question.answer

    def is_right(self, question_id: str, choice: Any) -> bool:
        """Whether ``choice`` is the right option for the question (False for non-strings)."""
        return isinstance(choice, str) and self._is_right(self.question(question_id), choice)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(f"quiz {self.module!r} has no question {question_id!r}")

    def check(
        self, answers: Any = _UNSET, report: Report | None = None, *, title: str | None = None
    ) -> None:
        """Grade ``quiz_answers``: one check per question, and every wrong or missing question
        id listed (never the right option).

        On its own, ``QUIZ.check(quiz_answers)`` shows the result and raises
        :class:`~graders.report.GradingError` when anything is wrong, like
        :meth:`Report.finish`. Given a ``report``, it only adds its findings to it, for a
        check cell that follows the course's usual shape::

            report = Report("Exercise 7 · concept quiz")
            with report.attempt("quiz_answers"):
                QUIZ.check(quiz_answers, report)
            ...
            report.finish();

        Called without answers, it reads ``quiz_answers`` from the notebook, so a check run
        before the answer cell says "not written yet" instead of raising a NameError.
        It returns nothing, so a check cell without a trailing ``;`` shows the result once.
        """
        if answers is _UNSET:
            answers = _notebook_variable("quiz_answers")
        if report is not None:
            self.grade(answers, report)
            return
        self.grade(answers, Report(title or self.title)).finish()

    def grade(self, answers: Any, report: Report | None = None) -> Report:
        """Add the quiz's findings for ``answers`` to ``report`` (a new one if not given) and
        return it without finishing it."""
        report = report if report is not None else Report(self.title)
        location = "quiz_answers"
        if answers is None or answers is Ellipsis:
            report.not_written(location)
            return report
        if not isinstance(answers, Mapping):
            report.fail(
                location,
                "should be a dict from question id to the text of the option you chose",
                expected="{"
                + ", ".join(f"{q.id!r}: '<option text>'" for q in self.questions)
                + "}",
                found=f"{type_name(answers)}: {short_repr(answers, 120)}",
            )
            return report
        known = {question.id for question in self.questions}
        unknown = sorted(str(key) for key in answers if key not in known)
        for key in unknown:
            report.fail(
                f"quiz_answers[{key!r}]",
                "there is no question with this id",
                expected=f"one of {sorted(known)}",
                found=repr(key),
                hint="Use the question ids shown in bold in the quiz above.",
            )
        for question in self.questions:
            self._grade_question(report, question, answers)
        return report

    def _grade_question(self, report: Report, question: Question, answers: Mapping) -> None:
        """One question's finding: unanswered, not text, not an option, or wrong."""
        where = f"quiz_answers[{question.id!r}]"
        if question.id not in answers:
            report.check(
                False,
                where,
                "no answer yet",
                hint="Add this question id with the text of the option you chose.",
            )
            return
        choice = answers[question.id]
        if not isinstance(choice, str):
            report.check(
                False,
                where,
                "the answer should be the option's text (a string)",
                found=f"{type_name(choice)}: {short_repr(choice, 80)}",
                hint="Copy the option text from the quiz, e.g. from the line the quiz "
                "prints under 'your answers so far'.",
            )
            return
        if normalise(choice) not in {normalise(option) for option in question.options}:
            report.check(
                False,
                where,
                "this is not one of the options",
                expected="one of: " + " | ".join(self.shown_options(question)),
                found=repr(choice),
                hint="Copy the option text exactly (case and spacing do not matter).",
            )
            return
        report.check(
            self._is_right(question, choice),
            where,
            "not the right answer",
            found=repr(choice),
            hint="Re-read the section this question is about, or try the quiz above: "
            "it tells you at once whether a choice is right.",
        )

    # -- showing ---------------------------------------------------------------------------

    def to_text(self) -> str:
        """The quiz as plain text (terminals, or a front end without widgets)."""
        lines = [f"{self.title}: {len(self.questions)} questions"]
        for number, question in enumerate(self.questions, 1):
            lines.append(f"\n{number}. [{question.id}] {question.prompt}")
            lines += [f"   - {option}" for option in self.shown_options(question)]
        lines.append(
            "\nWrite your choices in the answer cell below as "
            "quiz_answers = {'<question id>': '<option text>', ...}"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    # Long because the widget's callbacks close over its controls and the answers so far;
    # ipywidgets is imported only when a quiz is shown.
    def widget(self) -> Any:
        """The interactive quiz as an ipywidgets box (raises ImportError without ipywidgets)."""
        import ipywidgets as widgets

        chosen: dict[str, str] = {}
        summary = widgets.HTML(layout=widgets.Layout(margin="0.6em 0 0 0"))

        def update_summary() -> None:
            right = sum(self.is_right(qid, choice) for qid, choice in chosen.items())
            pairs = ", ".join(
                f"{qid!r}: {chosen[qid]!r}"
                for qid in [q.id for q in self.questions]
                if qid in chosen
            )
            summary.value = (
                f"<b>{right} of {len(self.questions)} right.</b> "
                "<span style='color:#555'>Your answers so far, to copy into the graded "
                "cell below:</span><br><code class='quiz-answers' "
                f"style='white-space:pre-wrap'>quiz_answers = {{{html.escape(pairs)}}}</code>"
            )

        rows = []
        for number, question in enumerate(self.questions, 1):
            prompt = widgets.HTML(
                f"<p style='margin:0.8em 0 0.2em 0'>{number}. "
                f"<b>{html.escape(question.id)}</b>: {html.escape(question.prompt)}</p>"
            )
            buttons = widgets.RadioButtons(
                options=self.shown_options(question),
                value=None,
                layout=widgets.Layout(width="auto"),
            )
            buttons.add_class("quiz-options")
            feedback = widgets.HTML(value="")
            feedback.add_class("quiz-feedback")

            def on_change(
                change: dict, question: Question = question, feedback: Any = feedback
            ) -> None:
                choice = change["new"]
                if choice is None:
                    return
                chosen[question.id] = choice
                if self.is_right(question.id, choice):
                    why = f" {html.escape(question.explanation)}" if question.explanation else ""
                    feedback.value = f"<span style='color:#1a7f37'>✓ Right.</span>{why}"
                else:
                    feedback.value = (
                        "<span style='color:#cf222e'>✗ Not quite.</span> "
                        "Think it through once more and pick another option."
                    )
                update_summary()

            buttons.observe(on_change, names="value")
            rows.append(widgets.VBox([prompt, buttons, feedback]))
        update_summary()
        title = widgets.HTML(f"<h4 style='margin:0'>{html.escape(self.title)}</h4>")
        box = widgets.VBox([title, *rows, summary])
        box.add_class("concept-quiz")
        return box

    def show(self) -> None:
        """Display the quiz: widgets in a notebook, plain text anywhere else. Never waits for
        input, so headless runs (papermill, nbgrader autograde) pass straight through."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            print(self.to_text())
            return
        if get_ipython() is None:
            print(self.to_text())
            return
        try:
            box = self.widget()
        except ImportError:
            print(self.to_text())
            return
        # The widget for JupyterLab; the quiz as text for front ends without widgets.
        bundle = box._repr_mimebundle_() or {}
        bundle["text/plain"] = self.to_text()
        display(bundle, raw=True)
