"""Who to call, wherever the learner is: the Prevent Lead's directory of contacts by area, and its suggestions."""
