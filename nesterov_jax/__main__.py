import sys

from nesterov_jax.cli import main

sys.exit(main())
