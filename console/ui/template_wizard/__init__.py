"""The Create Template wizard (issue #4): Source, General, Preparation, Distribution, Summary."""
