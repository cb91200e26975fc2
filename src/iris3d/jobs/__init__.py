"""Jobs: rows in the database, run by worker processes that keep the segmentation model warm.

The executor (:mod:`.executor`) is the seam: by default workers claim rows themselves
(:mod:`.worker`); another executor only has to call :func:`.runner.run_claimed` for a claim.
"""
