# answers with the option's position instead of its text, and skips the last question
quiz_answers = {"raw_as_text": 2, "leakage": 2, "chained_errors": 2, "threads_for_io": 2}
