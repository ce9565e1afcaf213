# answers four questions right but leaves the cron question out ("I'll come back to it")
quiz_answers = {
    "pipefail": "Without pipefail a pipeline's status is its last command's, and tee succeeded",
    "quoting": "Unquoted, the value is split at spaces and expanded as a glob, so rm can get other"
    " paths than the one meant",
    "stderr_for_people": "stdout stays clean data for the next command in a pipeline, while the "
    "messages still reach the person or the log",
    "sigterm_cleanup": "It stops promptly and still removes its lock, scratch files and child job,"
    " instead of being killed later with leftovers",
}
