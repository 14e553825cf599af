"""The briefing pack (简报): slides built from already computed and formatted numbers.

``content`` is the model (one ``Slide`` per page: a title, lines of text, an optional chart image,
optional tables); ``pptx`` and ``pdf`` write the same model, so the two files always agree.
No data access here: ``callbacks.exports`` asks ``CityData`` and fills the model.
"""
