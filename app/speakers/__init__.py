"""External speakers and events (issue 14, point 2): any employee asks for approval; an officer or the Prevent Lead
checks the request and approves it, approves it with conditions, or declines it, with a reason; the register is
searchable by speaker, so that a speaker declined before is seen. `evidence()` gives the evidence pack its figures."""
