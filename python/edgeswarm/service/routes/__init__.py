"""One router per resource; `edgeswarm.service.app.ROUTER_MODULES` lists them."""
