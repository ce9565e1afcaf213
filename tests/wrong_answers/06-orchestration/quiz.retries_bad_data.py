# Answers that bad data should be retried with backoff.
# Your answers: question id -> the text of the option you chose (copy it from the quiz).
quiz_answers = {
    "retry_bad_data": "Retry with exponential backoff until it parses",
    "blocking_check": "It stops the assets downstream of the bad batch, so no model is trained on it",
    "idempotent_version": "A re-run on the same data gives the same name, so retries and backfills do not create duplicates",
}
