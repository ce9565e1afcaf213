# believes a job should ignore SIGTERM so that it can always finish, and answers the option's
# position instead of its text for the cron question
quiz_answers = {
    "pipefail": "Without pipefail a pipeline's status is its last command's, and tee succeeded",
    "quoting": "Unquoted, the value is split at spaces and expanded as a glob, so rm can get other"
    " paths than the one meant",
    "stderr_for_people": "stdout stays clean data for the next command in a pipeline, while the "
    "messages still reach the person or the log",
    "sigterm_cleanup": "It ignores SIGTERM so the job can always finish",
    "cron_environment": 2,
}
