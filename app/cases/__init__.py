"""Cases: raising a concern, the pathway, actions, subjects, need-to-know access; its pages, API and use cases."""
