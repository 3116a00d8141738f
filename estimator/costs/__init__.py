"""What a model costs to train and run: the accelerator table (``hardware``) and training
compute by both methods (``compute``: operation counting and chips x peak x time)."""
