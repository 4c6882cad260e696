"""Run kafkalab as ``python -m kafkalab``."""

from kafkalab.cli import main

raise SystemExit(main())
