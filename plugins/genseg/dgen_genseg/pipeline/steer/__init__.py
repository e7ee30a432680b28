"""The ``steer`` method's parts: what the upper-level loss steers (:mod:`.variables`), the weighted pool of
synthetic pairs (:mod:`.pool`), the rotating held-out fold (:mod:`.crossfit`), its levels (:mod:`.levels`),
one MLO iteration (:mod:`.step`) and its pictures (:mod:`.pictures`)."""
