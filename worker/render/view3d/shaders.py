"""GLSL of the 3D view: depth-only passes (sun shadow map, AO height map), the lit pass, glass, and output.

Lighting is done in linear space and tone-mapped before the MSAA resolve (edges then blend displayed values,
which looks right); the output pass resolves, encodes sRGB and flips rows so the readback starts at the top.
"""

from __future__ import annotations

VERTEX = """
#version 330
uniform mat4 u_view_projection;
in vec3 in_position;
in vec3 in_normal;
in vec4 in_color;
in vec2 in_uv;
in float in_layer;
out vec3 v_position;
out vec3 v_normal;
out vec4 v_color;
out vec2 v_uv;
flat out float v_layer;
void main() {
    v_position = in_position;
    v_normal = in_normal;
    v_color = in_color;
    v_uv = in_uv;
    v_layer = in_layer;
    gl_Position = u_view_projection * vec4(in_position, 1.0);
}
"""

DEPTH_VERTEX = """
#version 330
uniform mat4 u_view_projection;
in vec3 in_position;
out float v_height;
void main() {
    v_height = in_position.y;
    gl_Position = u_view_projection * vec4(in_position, 1.0);
}
"""

SHADOW_FRAGMENT = """
#version 330
void main() {}
"""

HEIGHT_FRAGMENT = """
#version 330
in float v_height;
out float f_height;
void main() { f_height = v_height; }
"""

_LIGHTING = """
uniform sampler2DShadow u_shadow_map;
uniform sampler2D u_heights;
uniform mat4 u_light_view_projection;
uniform vec3 u_sun_direction;      // towards the sun
uniform vec3 u_sun_color;
uniform vec3 u_sky_color;
uniform vec3 u_bounce_color;
uniform vec3 u_eye;
uniform vec3 u_view_direction;     // for orthographic cameras
uniform bool u_orthographic;
uniform bool u_shadows;
uniform bool u_occlusion;
uniform float u_shadow_radius;     // in shadow-map uv
uniform float u_shadow_bias;       // in shadow-map depth
uniform float u_normal_offset;     // cm
uniform vec2 u_height_corner;      // world (x, z) of the height map's north-west corner
uniform float u_height_side;       // cm
uniform vec3 u_occlusion_lods;     // mip levels of the height map for the three distances
uniform float u_floor_y;
uniform float u_exposure;

// Percentage-closer filtering: 4 taps on a rotated grid, each a hardware-filtered 2x2 comparison, so 16
// depth tests blend into a soft edge about two texels wide. (12 taps looked no better and cost 3x on a CPU.)
float sun_visibility(vec3 p, vec3 n, float facing) {
    vec3 q = p + n * u_normal_offset * (1.5 - facing);
    vec4 l = u_light_view_projection * vec4(q, 1.0);
    vec3 c = l.xyz / l.w * 0.5 + 0.5;
    if (c.x <= 0.0 || c.x >= 1.0 || c.y <= 0.0 || c.y >= 1.0 || c.z >= 1.0) return 1.0;
    float r = u_shadow_radius;
    float z = c.z - u_shadow_bias;
    return 0.25 * (texture(u_shadow_map, vec3(c.xy + vec2(-0.4, -1.0) * r, z))
                 + texture(u_shadow_map, vec3(c.xy + vec2(1.0, -0.4) * r, z))
                 + texture(u_shadow_map, vec3(c.xy + vec2(0.4, 1.0) * r, z))
                 + texture(u_shadow_map, vec3(c.xy + vec2(-1.0, 0.4) * r, z)));
}

float height_at(vec2 xz, float lod) {
    vec2 uv = vec2((xz.x - u_height_corner.x) / u_height_side, 1.0 - (xz.y - u_height_corner.y) / u_height_side);
    return textureLod(u_heights, uv, lod).r;
}

// Ambient occlusion from the top-down height map: floor plans are 2.5D, so how high the surroundings rise
// above a point says how much sky they hide from it. At three distances in front of the surface we read the
// mean height of a neighbourhood as wide as the distance (one mip level each, whole levels so a single
// bilinear read does), and count how far it rises above the point, relative to the distance. That darkens
// floors along walls and furniture, under tables and in corners, and leaves open floor alone.
float occlusion(vec3 p, vec3 n) {
    vec3 b1 = p + n * 10.0;
    vec3 b2 = p + n * 30.0;
    vec3 b3 = p + n * 80.0;
    float o = 0.40 * clamp((height_at(b1.xz, u_occlusion_lods.x) - b1.y) / 10.0, 0.0, 1.0)
            + 0.35 * clamp((height_at(b2.xz, u_occlusion_lods.y) - b2.y) / 30.0, 0.0, 1.0)
            + 0.25 * clamp((height_at(b3.xz, u_occlusion_lods.z) - b3.y) / 80.0, 0.0, 1.0);
    // A vertical face near the floor has the floor in its lower hemisphere, which a height map cannot see.
    float low = (1.0 - abs(n.y)) * (1.0 - smoothstep(0.0, 35.0, p.y - u_floor_y)) * 0.3;
    return clamp(1.0 - 0.85 * o - low, 0.0, 1.0);
}

// Linear up to 0.8, then a soft shoulder: colours keep their hue (a filmic curve would bleach the wood),
// and only what the sun lights brightest is compressed rather than clipped.
vec3 tonemap(vec3 x) {
    x *= u_exposure;
    vec3 over = max(x - 0.8, 0.0);
    return min(x, 0.8) + 0.2 * (1.0 - exp(-over / 0.2));
}

vec3 view_vector(vec3 p) {
    return u_orthographic ? -u_view_direction : normalize(u_eye - p);
}
"""

_FRAGMENT_HEAD = """
#version 330
in vec3 v_position;
in vec3 v_normal;
in vec4 v_color;
in vec2 v_uv;
flat in float v_layer;
out vec4 f_color;
""" + _LIGHTING

MAIN_FRAGMENT = _FRAGMENT_HEAD + """
uniform sampler2DArray u_textures;
uniform vec3 u_background;

void main() {
    vec3 n = normalize(v_normal);
    vec3 base = v_color.rgb;
    if (v_layer < -1.5 && v_layer > -2.5) {  // a section cut: flat colour
        f_color = vec4(base, 1.0);
        return;
    }
    float facing = dot(n, u_sun_direction);
    float sun = (u_shadows && facing > 0.0) ? sun_visibility(v_position, n, facing) : 1.0;
    float ao = u_occlusion ? occlusion(v_position, n) : 1.0;
    if (v_layer < -2.5) {  // the ground: the background, with the building's shadow and contact shade only
        float shade = mix(0.8, 1.0, sun) * mix(0.55, 1.0, ao);
        f_color = vec4(u_background * shade, 1.0);
        return;
    }
    if (v_layer >= 0.0) base *= texture(u_textures, vec3(v_uv, v_layer)).rgb;
    vec3 sky = mix(u_bounce_color, u_sky_color, n.y * 0.5 + 0.5);
    vec3 light = u_sun_color * max(facing, 0.0) * sun + sky * ao;
    vec3 h = normalize(view_vector(v_position) + u_sun_direction);
    float highlight = v_color.a * pow(max(dot(n, h), 0.0), 60.0) * sun * step(0.0, facing);
    f_color = vec4(tonemap(base * light + u_sun_color * highlight), 1.0);
}
"""

GLASS_FRAGMENT = _FRAGMENT_HEAD + """
uniform float u_alpha;

void main() {
    vec3 n = normalize(gl_FrontFacing ? v_normal : -v_normal);
    vec3 v = view_vector(v_position);
    float fresnel = pow(1.0 - abs(dot(n, v)), 4.0);
    vec3 h = normalize(v + u_sun_direction);
    float highlight = pow(max(abs(dot(n, h)), 0.0), 80.0);
    vec3 color = v_color.rgb * (u_sky_color + 0.3 * u_sun_color) + u_sun_color * highlight * v_color.a;
    f_color = vec4(tonemap(color), clamp(u_alpha + 0.4 * fresnel + highlight, 0.0, 0.8));
}
"""

OUTPUT_VERTEX = """
#version 330
in vec2 in_corner;
void main() { gl_Position = vec4(in_corner, 0.0, 1.0); }
"""

OUTPUT_FRAGMENT = """
#version 330
uniform sampler2DMS u_image;
uniform int u_samples;
out vec4 f_color;
vec3 srgb(vec3 c) {
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}
// Resolves the multisampled image (averaging its samples in linear light) and encodes it in one pass.
void main() {
    ivec2 size = textureSize(u_image);
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 source = ivec2(p.x, size.y - 1 - p.y);
    vec3 sum = vec3(0.0);
    for (int i = 0; i < u_samples; i++) sum += texelFetch(u_image, source, i).rgb;
    f_color = vec4(srgb(clamp(sum / float(u_samples), 0.0, 1.0)), 1.0);
}
"""
