"""Interoperability: FHIR Questionnaire and QuestionnaireResponse for each form."""
