// topk_gate: streaming top-K selector over N router scores (see README.md for the
// cycle contract). Scores are signed Q8.8 (16 bit two's complement); expert id = arrival
// index 0..N-1. Output: K beats {id, value}, sorted descending, ties to the lower id.
// G > 1 enables DeepSeek-V3 group-limited selection: N/G contiguous experts per group,
// group score = sum of the group's top-2 scores, the TG best groups (ties to the lower
// group id) are kept, then top-K over the experts of the kept groups.
`timescale 1ns/1ns
module topk_gate #(
    parameter int N  = 8,   // scores per vector, 2..256
    parameter int K  = 1,   // outputs per vector, 1..min(8, N)
    parameter int G  = 1,   // groups; 1 disables group-limited selection
    parameter int TG = 1,   // groups kept (G > 1), 1..G
    parameter int IDW = (N > 1) ? $clog2(N) : 1
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  in_valid,
    output wire                  in_ready,
    input  wire [15:0]           in_data,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                  in_last,   // unused: N is a parameter
    /* verilator lint_on UNUSEDSIGNAL */
    output reg                   out_valid,
    input  wire                  out_ready,
    output wire [IDW+15:0]       out_data,  // {id, value}
    output wire                  out_last,
    output reg  [31:0]           stat_count // score reads (input beats + replay reads)
);
  localparam int GS  = N / G;                    // experts per group
  localparam int GW  = (G > 1) ? $clog2(G) : 1;
  localparam int KW  = $clog2(K + 1);
  localparam logic [1:0] S_IN = 2'd0, S_SEL = 2'd1, S_REPLAY = 2'd2, S_OUT = 2'd3;

  reg [1:0] state;
  reg [IDW:0] cnt;                               // beat counter of the current phase
  reg signed [15:0] lv [K];                      // sorted list, descending
  reg [IDW-1:0]     lid[K];
  reg [K-1:0]       lok;                         // entry holds a real score
  reg [KW-1:0]      ocnt;

  // Insertion of one candidate (value cv, id cid) into the sorted list. Candidates arrive
  // in increasing id order, so an equal value never displaces an existing entry.
  wire signed [15:0] cv;
  wire [IDW-1:0] cid;
  wire cins;
  reg [K-1:0] gt;                                // candidate beats entry i
  always @* begin
    for (int i = 0; i < K; i++) gt[i] = !lok[i] || (cv > lv[i]);
  end

  task automatic insert_candidate;
    for (int i = K - 1; i >= 0; i--) begin
      if (gt[i]) begin
        if (i == 0 || !gt[i-1]) begin
          lv[i] <= cv; lid[i] <= cid; lok[i] <= 1'b1;
        end else begin
          lv[i] <= lv[i-1]; lid[i] <= lid[i-1]; lok[i] <= lok[i-1];
        end
      end
    end
  endtask

  wire in_fire  = in_valid && in_ready;
  wire out_fire = out_valid && out_ready;
  assign in_ready = (state == S_IN);

  // ---- group-limited selection ----
  generate
    if (G > 1) begin : g_group
      reg signed [15:0] mem[N];                  // score buffer for the replay pass
      reg signed [15:0] t1, t2;                  // running top-2 of the current group
      reg [$clog2(GS+1)-1:0] gcnt;
      reg [GW-1:0] gidx;
      reg signed [16:0] gscore[G];
      reg [G-1:0] gsel;
      wire signed [15:0] x = in_data;
      // top-2 including the current beat
      wire signed [15:0] n1 = (gcnt == 0 || x > t1) ? x : t1;
      wire signed [15:0] n2 = (gcnt == 0) ? 16'sh8000 : (x > t1) ? t1 : (gcnt == 1 || x > t2) ? x : t2;
      // rank of each group: number of groups that beat it
      reg [G-1:0] keep;
      always @* begin
        for (int g = 0; g < G; g++) begin
          int unsigned r;
          r = 0;
          for (int h = 0; h < G; h++)
            if (gscore[h] > gscore[g] || (gscore[h] == gscore[g] && h < g)) r = r + 1;
          keep[g] = (r < TG);
        end
      end
      wire [IDW-1:0] ridx = cnt[IDW-1:0];
      wire [GW-1:0] rgrp = GW'(ridx / IDW'(GS));
      assign cv   = (state == S_IN) ? x : mem[ridx];
      assign cid  = (state == S_IN) ? cnt[IDW-1:0] : ridx;
      assign cins = (state == S_REPLAY) && gsel[rgrp];
      always @(posedge clk) begin
        if (rst) begin
          gcnt <= 0; gidx <= 0; gsel <= 0; t1 <= 0; t2 <= 0;
          for (int g = 0; g < G; g++) gscore[g] <= 0;
        end else begin
          if (in_fire) begin
            mem[cnt[IDW-1:0]] <= x;
            if (gcnt == $bits(gcnt)'(GS - 1)) begin
              gscore[gidx] <= 17'(n1) + 17'(n2);
              gcnt <= 0;
              gidx <= gidx + 1'b1;
            end else begin
              gcnt <= gcnt + 1'b1;
              t1 <= n1; t2 <= n2;
            end
          end
          if (state == S_SEL) begin
            gsel <= keep;
            gidx <= 0;
          end
        end
      end
    end else begin : g_flat
      assign cv   = in_data;
      assign cid  = cnt[IDW-1:0];
      assign cins = in_fire;
    end
  endgenerate

  assign out_data = {lid[0], lv[0]};
  assign out_last = out_valid && (ocnt == KW'(K - 1));

  always @(posedge clk) begin
    if (rst) begin
      state <= S_IN; cnt <= 0; lok <= 0; out_valid <= 1'b0; ocnt <= 0; stat_count <= 0;
      for (int i = 0; i < K; i++) begin lv[i] <= 0; lid[i] <= 0; end
    end else begin
      case (state)
        S_IN: if (in_fire) begin
          stat_count <= stat_count + 1;
          if (G == 1) insert_candidate();
          if (cnt == (IDW+1)'(N - 1)) begin
            cnt <= 0;
            if (G > 1) state <= S_SEL;
            else begin state <= S_OUT; out_valid <= 1'b1; end
          end else cnt <= cnt + 1'b1;
        end
        S_SEL: state <= S_REPLAY;
        S_REPLAY: begin
          stat_count <= stat_count + 1;
          if (cins) insert_candidate();
          if (cnt == (IDW+1)'(N - 1)) begin
            cnt <= 0; state <= S_OUT; out_valid <= 1'b1;
          end else cnt <= cnt + 1'b1;
        end
        S_OUT: if (out_fire) begin
          // shift the list up: the head has been delivered
          for (int i = 0; i < K - 1; i++) begin
            lv[i] <= lv[i+1]; lid[i] <= lid[i+1]; lok[i] <= lok[i+1];
          end
          lok[K-1] <= 1'b0;
          if (ocnt == KW'(K - 1)) begin
            ocnt <= 0; out_valid <= 1'b0; state <= S_IN; lok <= 0;
          end else ocnt <= ocnt + 1'b1;
        end
        default: state <= S_IN;
      endcase
    end
  end
endmodule
