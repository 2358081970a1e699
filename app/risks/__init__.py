"""The provider's Prevent risk assessment and the action plan that follows from it (issue 14, point 1): risks by
area with likelihood, impact and a RAG rating, the controls in place, actions with owners and due dates, and the
Prevent Lead's sign-off, each signed-off version kept as it stood."""
