# finding: not written yet
# YOUR CODE HERE
raise NotImplementedError()
