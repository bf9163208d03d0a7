from lessonreview.cli import main

raise SystemExit(main())
