"""The service layer: accepting requests, running jobs, access keys."""
