#!/usr/bin/env bash
# finding: not written yet: the placeholder is still there
# YOUR CODE HERE
raise NotImplementedError()
