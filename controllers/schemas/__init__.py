"""The HTTP API's request and response models (DTOs), one module per area.

Routes and controllers import them from here (`controllers.schemas.<area>`); `common` holds
the models and mappers several areas share. Component names in /openapi.json are the class
names, so a class keeps its name when it moves.
"""
