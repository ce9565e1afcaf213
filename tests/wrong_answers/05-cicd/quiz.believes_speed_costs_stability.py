# The common beliefs: deleting the file is enough, and deploying more often must cost stability.
quiz_answers = {
    "leaked_secret": "Nothing: the file is gone and git now ignores it",
    "mutation_testing": "A suite that passes on correct code proves nothing until it also fails on broken code",
    "deploy_condition": "The workflow also runs for pull requests, and a filter on `on:` never stops a single job",
    "canary_rates": "The canary serves a small share of the traffic, so it has fewer errors even when it fails far more often",
    "speed_and_stability": "They trade off: deploying more often raises the change failure rate",
}
