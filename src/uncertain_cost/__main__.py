from uncertain_cost.cli import main

raise SystemExit(main())
