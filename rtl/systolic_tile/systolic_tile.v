// systolic_tile: R x C weight-stationary int8 MAC array (see README.md for the contract).
// Per fold: R weight beats (beat i = weight row i: C int8 weights, column j in bits
// [8j+7:8j]), then M activation beats (one row of A: R int8 values, row i in bits
// [8i+7:8i]; in_last on the M-th), then the array drains. Output: M beats, one per row of A,
// C accumulators of ACC_W bits (column j in bits [ACC_W*j +: ACC_W]), two's complement,
// wrapping modulo 2^ACC_W. The input is skewed by one cycle per row, activations move right,
// partial sums move down; the bottom row feeds a deskew buffer. The whole array stalls while
// an output is offered and not taken (global enable).
`timescale 1ns/1ns
module systolic_tile #(
    parameter int R = 4,            // array rows: K-tile, 2..16
    parameter int C = 4,            // array columns: N-tile, 2..16
    parameter int ACC_W = 32,       // accumulator bits, 16..32
    parameter int IW = 8 * ((R > C) ? R : C)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [IW-1:0]      in_data,
    input  wire               in_last,
    output wire               out_valid,
    input  wire               out_ready,
    output wire [C*ACC_W-1:0] out_data,
    output wire               out_last,
    output reg  [31:0]        stat_count   // accepted input beats (weight + activation rows)
);
  localparam int D = R + C - 2;            // wavefront hops from PE(0,0) to PE(R-1,C-1)
  localparam int RW = (R > 1) ? $clog2(R) : 1;
  localparam int DW = $clog2(D + 2);
  localparam logic [1:0] S_LOAD = 2'd0, S_COMPUTE = 2'd1, S_DRAIN = 2'd2;

  reg [1:0] state;
  reg [RW-1:0] wcnt;
  reg [DW-1:0] dcnt;
  reg [D:0] vpipe;                         // wavefront valid bits, vpipe[d] at diagonal d
  reg [D:0] lpipe;                         // wavefront last bits

  wire adv = !(out_valid && !out_ready);   // global enable
  assign in_ready = adv && (state == S_LOAD || state == S_COMPUTE);
  wire in_fire = in_valid && in_ready;
  wire act_fire = in_fire && (state == S_COMPUTE);
  wire w_fire = in_fire && (state == S_LOAD);

  assign out_valid = vpipe[D];
  assign out_last = lpipe[D];

  // PE grid
  wire signed [7:0] a_in [R][C];           // activation entering PE(i,j)
  reg  signed [7:0] a_q  [R][C];           // activation register of PE(i,j) (passed right)
  reg  signed [7:0] w_q  [R][C];           // stationary weight
  reg  signed [ACC_W-1:0] p_q [R][C];      // partial sum register (passed down)

  genvar i, j;
  generate
    for (i = 0; i < R; i++) begin : g_row
      // input skew: row i enters PE(i,0) i cycles after row 0
      wire signed [7:0] a_new = act_fire ? $signed(in_data[8*i +: 8]) : 8'sd0;
      if (i == 0) begin : g_noskew
        assign a_in[0][0] = a_new;
      end else begin : g_skew
        reg signed [7:0] sk [i];
        always @(posedge clk) begin
          if (rst) begin
            for (int s = 0; s < i; s++) sk[s] <= 8'sd0;
          end else if (adv) begin
            sk[0] <= a_new;
            for (int s = 1; s < i; s++) sk[s] <= sk[s-1];
          end
        end
        assign a_in[i][0] = sk[i-1];
      end
      for (j = 0; j < C; j++) begin : g_col
        if (j > 0) begin : g_pass
          assign a_in[i][j] = a_q[i][j-1];
        end
        wire signed [15:0] prod = a_in[i][j] * w_q[i][j];
        wire signed [ACC_W-1:0] p_above;
        if (i == 0) begin : g_top
          assign p_above = '0;
        end else begin : g_below
          assign p_above = p_q[i-1][j];
        end
        always @(posedge clk) begin
          if (rst) begin
            a_q[i][j] <= 8'sd0; p_q[i][j] <= '0; w_q[i][j] <= 8'sd0;
          end else begin
            if (adv) begin
              a_q[i][j] <= a_in[i][j];
              p_q[i][j] <= p_above + ACC_W'(prod);
            end
            if (w_fire && wcnt == RW'(i)) w_q[i][j] <= $signed(in_data[8*j +: 8]);
          end
        end
      end
    end
    // deskew: column j leaves the array C-1-j cycles before column C-1
    for (j = 0; j < C; j++) begin : g_out
      if (j == C - 1) begin : g_direct
        assign out_data[ACC_W*j +: ACC_W] = p_q[R-1][j];
      end else begin : g_dsk
        reg [ACC_W-1:0] dsk [C-1-j];
        always @(posedge clk) begin
          if (rst) begin
            for (int s = 0; s < C - 1 - j; s++) dsk[s] <= '0;
          end else if (adv) begin
            dsk[0] <= p_q[R-1][j];
            for (int s = 1; s < C - 1 - j; s++) dsk[s] <= dsk[s-1];
          end
        end
        assign out_data[ACC_W*j +: ACC_W] = dsk[C-2-j];
      end
    end
  endgenerate

  always @(posedge clk) begin
    if (rst) begin
      state <= S_LOAD; wcnt <= 0; dcnt <= 0; vpipe <= 0; lpipe <= 0; stat_count <= 0;
    end else begin
      if (adv) begin
        vpipe <= {vpipe[D-1:0], act_fire};
        lpipe <= {lpipe[D-1:0], act_fire && in_last};
      end
      if (in_fire) stat_count <= stat_count + 1;
      case (state)
        S_LOAD: if (w_fire) begin
          if (wcnt == RW'(R - 1)) begin wcnt <= 0; state <= S_COMPUTE; end
          else wcnt <= wcnt + 1'b1;
        end
        S_COMPUTE: if (act_fire && in_last) begin
          dcnt <= DW'(D);
          state <= (D == 0) ? S_LOAD : S_DRAIN;
        end
        S_DRAIN: if (adv) begin
          if (dcnt == DW'(1)) state <= S_LOAD;
          dcnt <= dcnt - 1'b1;
        end
        default: state <= S_LOAD;
      endcase
    end
  end
endmodule
