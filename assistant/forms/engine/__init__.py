"""The forms engine: reading definitions, the expression language, validating answers, and
checking forms/."""
