"""What things are and the rules between them. No I/O, no Qt, nothing else of ours."""
