"""The pool editor (issue #5): a dialog with tabs over one PoolEditorState."""
