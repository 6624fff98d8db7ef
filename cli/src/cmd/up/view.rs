//! `kiln up`'s terminal view: the start-up steps, then the latest window and how the components
//! fare (restarts included), redrawn in place on a terminal or printed line by line otherwise.

use kiln_stack::report::{components_line, summary_table, window_table};
use kiln_stack::{Stack, Summary, WindowReport};
use std::io::IsTerminal;

pub(super) struct View {
    redraw: bool,
    header: String,
}

impl View {
    pub(super) fn new(plain: bool) -> Self {
        Self {
            redraw: !plain && std::io::stdout().is_terminal(),
            header: String::new(),
        }
    }

    pub(super) fn step(&mut self, step: &str) {
        eprintln!("kiln up: {step}");
    }

    pub(super) fn started(&mut self, s: &Stack) {
        self.header = format!(
            "kiln up: subnet {} on {}\n  dashboard  http://{}/\n  API        http://{}/api/v1/status (OpenAPI: /api/v1/openapi.json)\n  gateway    {}\n  database   {}\n  logs       {}\n",
            kiln_stack::NETUID,
            s.ws_url(),
            s.api_addr(),
            s.api_addr(),
            s.gateway_url(),
            s.database_url().unwrap_or("-"),
            s.run_dir().join("logs").display(),
        );
        println!("{}\nwaiting for the first scored window…", self.header);
    }

    pub(super) fn window(&mut self, s: &Stack, r: &WindowReport) {
        if self.redraw {
            // Clear the screen and go home, then draw the header and the window.
            println!("\x1b[2J\x1b[H{}", self.header);
        }
        let weights = if r.weights_sent {
            "weights sent"
        } else {
            "no weights this window"
        };
        let model = r
            .model_loss
            .map_or(String::new(), |l| format!("model loss {l:.4}; "));
        println!(
            "window {} (block {}, {model}{weights}; {} miners)\n{}{}\n",
            r.window,
            r.block,
            s.miners().len(),
            window_table(r),
            components_line(&s.components())
        );
    }

    pub(super) fn summary(&mut self, s: &Summary) {
        if let (Some(first), Some(last)) = (s.model_loss_first, s.model_loss_last) {
            println!("model loss on held-out rows: {first:.4} -> {last:.4}");
        }
        println!(
            "summary of windows {:?}\n{}honest miners hold all non-zero weight: {}",
            s.windows,
            summary_table(s),
            if s.honest_hold_all_weight {
                "yes"
            } else {
                "no"
            }
        );
    }
}
