"""python3 -m telemetry.bootstrap TASK --spec FILE"""

import sys

from telemetry.bootstrap.cli import main

sys.exit(main())
