from otelmetrics.cli import main

raise SystemExit(main())
