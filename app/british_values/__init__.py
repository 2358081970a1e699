"""British values in the programmes: activities that promote them, Learner Voice survey results, figures per
programme."""
