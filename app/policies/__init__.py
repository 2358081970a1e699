"""The provider's policies: the register (versions, owners, review dates, whom each applies to), staff confirming they
have read the current version, and policy-read compliance per team."""
