from lgs_reports.cli import main

raise SystemExit(main())
