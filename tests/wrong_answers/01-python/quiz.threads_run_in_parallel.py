# believes threads speed up I/O-bound scoring by running Python on several cores at once
quiz_answers = {
    "raw_as_text": "Every conversion is then explicit, so a bad value is found and handled instead of guessed",
    "leakage": "The test rows' mean and spread leak into training, so the test score is too optimistic",
    "chained_errors": "Callers catch one type, the message names file and key, and the cause stays attached",
    "threads_for_io": "Threads run Python bytecode on several cores at the same time",
    "exit_status": "From its exit status: non-zero means it failed",
}
